<?php
$a = ["O", "K"];
echo implode("", $a), "\n";
