-module(main).
-export([main/1]).

main(_Args) ->
    io:format("~s~n", [lists:concat(["O", "K"])]).
