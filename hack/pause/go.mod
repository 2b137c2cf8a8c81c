module scribe.local/pause

go 1.22
