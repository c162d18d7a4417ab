module fpregs

go 1.22
