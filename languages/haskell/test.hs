import qualified Data.Map as Map

main :: IO ()
main = do
  let m = Map.fromList [(1 :: Int, 'O'), (2, 'K')]
  putStrLn (Map.elems m)
