"""The portable filter language translated for the engines: lowered onto a typed index for engines
without SQL (:mod:`.native`), rendered on the hosted services' record tokens (:mod:`.tokens`), or
written as a WHERE clause with bound parameters (:mod:`.sql`)."""
