"""The layers the knowledge backends are built on: argument checks, the contract written once
(:mod:`.store_base`), and the shared stores of the hosted services and the frameworks, with the
hosted services' record layout."""
