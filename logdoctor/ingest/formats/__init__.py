"""Format files (``parsers/*.toml``): the spec and its loader (:mod:`.spec`), the sample check
(:mod:`.check`), the catalog of built-in and user formats (:mod:`.catalog`) and the lnav
export (:mod:`.lnav`)."""
