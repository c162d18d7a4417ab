module generics

go 1.22
