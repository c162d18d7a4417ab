module crossinline

go 1.22
