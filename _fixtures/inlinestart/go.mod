module inlinestart

go 1.22
