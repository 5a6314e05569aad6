from ntx_assets.standin.cli import main

main()
