def parts = ["O", "K"]
println parts.join("")
