from c2v.app.cli import main

main()
