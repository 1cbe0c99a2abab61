let () =
  let parts = [ "O"; "K" ] in
  print_endline (String.concat "" parts)
