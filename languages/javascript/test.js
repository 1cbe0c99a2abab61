const parts = ["O", "K"];
process.stdout.write(parts.map((s) => s.toUpperCase()).join("") + "\n");
