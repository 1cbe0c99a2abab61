parts = {"O", "K"};
printf("%s\n", strjoin(parts, ""));
