import collections
import json
import sys

counts = collections.Counter("OOK")
print(json.loads('"O"') + "K" if counts["O"] == 2 else "no", file=sys.stdout)
