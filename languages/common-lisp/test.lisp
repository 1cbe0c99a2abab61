(let ((parts (list "O" "K")))
  (format t "~{~a~}~%" parts))
