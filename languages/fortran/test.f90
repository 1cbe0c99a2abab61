program main
  implicit none
  character(len=1), dimension(2) :: parts = (/ 'O', 'K' /)
  write (*, '(a)') parts(1) // parts(2)
end program main
