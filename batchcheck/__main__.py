from batchcheck.cli import main

raise SystemExit(main())
