from c2v.cli import main

main()
