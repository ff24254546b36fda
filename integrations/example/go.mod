module example.com/pgofetch-example

go 1.21
