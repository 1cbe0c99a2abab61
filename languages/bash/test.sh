declare -A a=([x]=O [y]=K)
echo "${a[x]}${a[y]}"
