(println (apply str ["O" "K"]))
