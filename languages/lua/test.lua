local t = { "O", "K" }
print(table.concat(t))
