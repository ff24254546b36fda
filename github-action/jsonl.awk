# jsonl.awk: the jq-less reader of lib.sh's jsonl_fields. For each input
# line that is a JSON object, prints the values of the space-separated keys
# in -v keys=..., joined by \037. Values: strings unescaped (\uXXXX as
# UTF-8), numbers, true and false as written, null and absent keys empty,
# nested objects and arrays as their JSON text; tabs, CRs and newlines
# become spaces. A line that is not a well-formed object is skipped.
# Run with LC_ALL=C (bytes in, bytes out).

BEGIN {
	nkeys = split(keys, want, " ")
	hexdigits = "0123456789abcdef"
}

function hexval(h,    i, n, c) {
	n = 0
	for (i = 1; i <= length(h); i++) {
		c = index(hexdigits, tolower(substr(h, i, 1)))
		if (c == 0)
			return -1
		n = n * 16 + c - 1
	}
	return n
}

function utf8(cp) {
	if (cp < 128)
		return sprintf("%c", cp)
	if (cp < 2048)
		return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
	if (cp < 65536)
		return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
	return sprintf("%c%c%c%c", 240 + int(cp / 262144), 128 + int(cp / 4096) % 64,
		128 + int(cp / 64) % 64, 128 + cp % 64)
}

function skipws() {
	while (pos <= len && index(" \t\r\n", substr(line, pos, 1)) > 0)
		pos++
}

# parses the string at pos (which holds the opening quote) into str;
# returns 0 when it is malformed.
function parsestr(    c, e, cp, lo) {
	str = ""
	pos++
	while (pos <= len) {
		c = substr(line, pos, 1)
		if (c == "\"") {
			pos++
			return 1
		}
		if (c != "\\") {
			str = str c
			pos++
			continue
		}
		e = substr(line, pos + 1, 1)
		pos += 2
		if (e == "\"" || e == "\\" || e == "/")
			str = str e
		else if (e == "n")
			str = str "\n"
		else if (e == "t")
			str = str "\t"
		else if (e == "r")
			str = str "\r"
		else if (e == "b")
			str = str "\b"
		else if (e == "f")
			str = str "\f"
		else if (e == "u") {
			cp = hexval(substr(line, pos, 4))
			if (cp < 0)
				return 0
			pos += 4
			if (cp >= 55296 && cp < 56320 && substr(line, pos, 2) == "\\u") {
				lo = hexval(substr(line, pos + 2, 4))
				if (lo >= 56320 && lo < 57344) {
					cp = 65536 + (cp - 55296) * 1024 + (lo - 56320)
					pos += 6
				}
			}
			str = str utf8(cp)
		} else
			return 0
	}
	return 0
}

# parses the value at pos into val; returns 0 when it is malformed.
function parseval(    c, depth, start, inq) {
	c = substr(line, pos, 1)
	if (c == "\"") {
		if (!parsestr())
			return 0
		val = str
		return 1
	}
	start = pos
	if (c == "{" || c == "[") {
		depth = 0
		inq = 0
		while (pos <= len) {
			c = substr(line, pos, 1)
			if (inq) {
				if (c == "\\")
					pos++
				else if (c == "\"")
					inq = 0
			} else if (c == "\"")
				inq = 1
			else if (c == "{" || c == "[")
				depth++
			else if (c == "}" || c == "]") {
				depth--
				if (depth == 0) {
					pos++
					val = substr(line, start, pos - start)
					return 1
				}
			}
			pos++
		}
		return 0
	}
	while (pos <= len && index(",} \t\r\n", substr(line, pos, 1)) == 0)
		pos++
	val = substr(line, start, pos - start)
	if (val == "")
		return 0
	if (val == "null")
		val = ""
	return 1
}

function clean(s) {
	gsub(/[\t\r\n\037]/, " ", s)
	return s
}

{
	line = $0
	len = length(line)
	pos = 1
	skipws()
	if (substr(line, pos, 1) != "{")
		next
	pos++
	split("", got)
	ok = 0
	while (1) {
		skipws()
		c = substr(line, pos, 1)
		if (c == "}") {
			ok = 1
			break
		}
		if (c == ",") {
			pos++
			continue
		}
		if (c != "\"" || !parsestr())
			break
		key = str
		skipws()
		if (substr(line, pos, 1) != ":")
			break
		pos++
		skipws()
		if (!parseval())
			break
		got[key] = val # the last of duplicate keys wins, as in jq
	}
	if (!ok)
		next
	out = ""
	for (i = 1; i <= nkeys; i++)
		out = out (i > 1 ? "\037" : "") ((want[i] in got) ? clean(got[want[i]]) : "")
	print out
}
