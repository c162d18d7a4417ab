module closureline

go 1.22
