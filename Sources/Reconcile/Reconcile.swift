// The reconcile issue (#3) fills this target: carrier result files, matching, settlement postings.
