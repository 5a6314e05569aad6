from ntx_assets_tests.tools.standin.cli import main

main()
