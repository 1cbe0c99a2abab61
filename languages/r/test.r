parts <- c("O", "K")
cat(paste(parts, collapse = ""), "\n", sep = "")
