from tickforge import main

main()
