from sipas_scan.cli import main

main()
