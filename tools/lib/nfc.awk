# Normalise `objdump -d --no-show-raw-insn -w` output to one line per
# function: "name<TAB>insn;insn;...". Addresses and RIP-relative
# displacements go; symbol names (and offsets inside functions) stay.
function flush() {
	if (name != "") {
		seen[name]++
		key = seen[name] > 1 ? name "#" seen[name] : name
		print key "\t" body
	}
	name = ""; body = ""
}
/^[0-9a-f]+ <[^>]+>:$/ {
	flush()
	name = $2
	gsub(/[<>:]/, "", name)
	next
}
name != "" && /^ *[0-9a-f]+:\t/ {
	sub(/^ *[0-9a-f]+:\t/, "")
	gsub(/[0-9a-f]{16}/, "A")
	gsub(/-?0x[0-9a-f]+\(%rip\)/, "X(%rip)")
	gsub(/[ \t]+/, " ")
	body = body $0 ";"
}
END { flush() }
