package ghaction

// A small evaluator for the subset of GitHub Actions expressions the
// action uses: ${{ }} interpolation, string/boolean/null/number literals,
// the contexts inputs, steps and env, ==, !=, &&, ||, !, parentheses and
// the status functions. Anything else is an error, so the action cannot
// start using a construct this runner would get wrong.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// evalCtx is what an expression may read.
type evalCtx struct {
	inputs map[string]string
	steps  map[string]*stepState
	env    map[string]string
	failed bool // a step of the action failed: the job status is failure
}

type stepState struct {
	outputs    map[string]string
	outcome    string // success, failure, skipped
	conclusion string
}

// interpolate replaces every ${{ expr }} in s by the expression's value as
// a string, as the runner does for with:, env: and outputs values.
func interpolate(s string, c *evalCtx) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+3:]
		j := closingBraces(rest)
		if j < 0 {
			return "", fmt.Errorf("unterminated ${{ in %q", s)
		}
		v, err := evalExpr(rest[:j], c)
		if err != nil {
			return "", err
		}
		b.WriteString(toString(v))
		s = rest[j+2:]
	}
}

// closingBraces finds the }} that ends an expression, skipping string
// literals.
func closingBraces(s string) int {
	inStr := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inStr = !inStr // '' inside a literal toggles twice
		case !inStr && strings.HasPrefix(s[i:], "}}"):
			return i
		}
	}
	return -1
}

// evalIf evaluates a step's if: as the runner does: with or without ${{ }},
// and as success() && (cond) unless cond calls a status function.
func evalIf(cond string, c *evalCtx) (bool, error) {
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return !c.failed, nil
	}
	if strings.HasPrefix(cond, "${{") && strings.HasSuffix(cond, "}}") {
		cond = strings.TrimSuffix(strings.TrimPrefix(cond, "${{"), "}}")
	}
	p := &parser{toks: nil}
	if err := p.lex(cond); err != nil {
		return false, err
	}
	n, err := p.parseOr()
	if err != nil {
		return false, err
	}
	if p.pos != len(p.toks) {
		return false, fmt.Errorf("unexpected %q in %q", p.toks[p.pos].text, cond)
	}
	v, err := n.eval(c)
	if err != nil {
		return false, err
	}
	if !p.sawStatus && c.failed {
		return false, nil
	}
	return truthy(v), nil
}

func evalExpr(src string, c *evalCtx) (any, error) {
	p := &parser{}
	if err := p.lex(src); err != nil {
		return nil, err
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in %q", p.toks[p.pos].text, src)
	}
	return n.eval(c)
}

type token struct {
	kind string // ident, str, num, op
	text string
}

type parser struct {
	toks      []token
	pos       int
	sawStatus bool
}

func (p *parser) lex(s string) error {
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return fmt.Errorf("unterminated string in %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			p.toks = append(p.toks, token{"str", b.String()})
			i = j + 1
		case strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!=") ||
			strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, token{"op", s[i : i+2]})
			i += 2
		case strings.ContainsRune("!().,", rune(ch)):
			p.toks = append(p.toks, token{"op", string(ch)})
			i++
		case ch >= '0' && ch <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			p.toks = append(p.toks, token{"num", s[i:j]})
			i = j
		case ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] >= 'a' && s[j] <= 'z' ||
				s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			p.toks = append(p.toks, token{"ident", s[i:j]})
			i = j
		default:
			return fmt.Errorf("unsupported character %q in expression %q", ch, s)
		}
	}
	return nil
}

func (p *parser) peek(text string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "op" && p.toks[p.pos].text == text
}

type node interface {
	eval(c *evalCtx) (any, error)
}

type binNode struct {
	op   string
	l, r node
}
type notNode struct{ x node }
type litNode struct{ v any }
type pathNode struct{ parts []string }
type callNode struct{ name string }

func (p *parser) parseOr() (node, error) {
	l, err := p.parseAnd()
	for err == nil && p.peek("||") {
		p.pos++
		var r node
		r, err = p.parseAnd()
		l = &binNode{"||", l, r}
	}
	return l, err
}

func (p *parser) parseAnd() (node, error) {
	l, err := p.parseCmp()
	for err == nil && p.peek("&&") {
		p.pos++
		var r node
		r, err = p.parseCmp()
		l = &binNode{"&&", l, r}
	}
	return l, err
}

func (p *parser) parseCmp() (node, error) {
	l, err := p.parseUnary()
	if err == nil && (p.peek("==") || p.peek("!=")) {
		op := p.toks[p.pos].text
		p.pos++
		var r node
		r, err = p.parseUnary()
		l = &binNode{op, l, r}
	}
	return l, err
}

func (p *parser) parseUnary() (node, error) {
	if p.peek("!") {
		p.pos++
		x, err := p.parseUnary()
		return &notNode{x}, err
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (node, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case "str":
		return &litNode{t.text}, nil
	case "num":
		f, err := strconv.ParseFloat(t.text, 64)
		return &litNode{f}, err
	case "op":
		if t.text == "(" {
			n, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			if !p.peek(")") {
				return nil, fmt.Errorf("missing )")
			}
			p.pos++
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
	switch t.text {
	case "true":
		return &litNode{true}, nil
	case "false":
		return &litNode{false}, nil
	case "null":
		return &litNode{nil}, nil
	}
	if p.peek("(") {
		if p.pos+1 >= len(p.toks) || p.toks[p.pos+1].text != ")" {
			return nil, fmt.Errorf("function %s: only argument-less status functions are supported", t.text)
		}
		p.pos += 2
		switch t.text {
		case "success", "always", "failure", "cancelled":
			p.sawStatus = true
			return &callNode{t.text}, nil
		}
		return nil, fmt.Errorf("unsupported function %s()", t.text)
	}
	parts := []string{t.text}
	for p.peek(".") {
		p.pos++
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != "ident" {
			return nil, fmt.Errorf("bad property access after %s", strings.Join(parts, "."))
		}
		parts = append(parts, p.toks[p.pos].text)
		p.pos++
	}
	return &pathNode{parts}, nil
}

func (n *litNode) eval(*evalCtx) (any, error) { return n.v, nil }

func (n *notNode) eval(c *evalCtx) (any, error) {
	v, err := n.x.eval(c)
	return !truthy(v), err
}

func (n *callNode) eval(c *evalCtx) (any, error) {
	switch n.name {
	case "success":
		return !c.failed, nil
	case "failure":
		return c.failed, nil
	case "always":
		return true, nil
	}
	return false, nil // cancelled
}

func (n *binNode) eval(c *evalCtx) (any, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "&&":
		if !truthy(l) {
			return l, nil
		}
		return n.r.eval(c)
	case "||":
		if truthy(l) {
			return l, nil
		}
		return n.r.eval(c)
	}
	r, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	eq := looseEqual(l, r)
	if n.op == "==" {
		return eq, nil
	}
	return !eq, nil
}

func (n *pathNode) eval(c *evalCtx) (any, error) {
	name := strings.Join(n.parts, ".")
	switch n.parts[0] {
	case "inputs":
		if len(n.parts) != 2 {
			return nil, fmt.Errorf("%s: want inputs.<name>", name)
		}
		v, ok := c.inputs[n.parts[1]]
		if !ok {
			return nil, fmt.Errorf("%s: no such input in action.yml", name)
		}
		return v, nil
	case "env":
		if len(n.parts) != 2 {
			return nil, fmt.Errorf("%s: want env.<name>", name)
		}
		return c.env[n.parts[1]], nil
	case "steps":
		if len(n.parts) < 3 {
			return nil, fmt.Errorf("%s: want steps.<id>.<property>", name)
		}
		st, ok := c.steps[n.parts[1]]
		if !ok {
			return nil, fmt.Errorf("%s: no step with id %s has run yet", name, n.parts[1])
		}
		switch {
		case len(n.parts) == 4 && n.parts[2] == "outputs":
			v, ok := st.outputs[n.parts[3]]
			if !ok {
				return nil, nil
			}
			return v, nil
		case len(n.parts) == 3 && n.parts[2] == "outcome":
			return st.outcome, nil
		case len(n.parts) == 3 && n.parts[2] == "conclusion":
			return st.conclusion, nil
		}
		return nil, fmt.Errorf("%s: unsupported step property", name)
	}
	return nil, fmt.Errorf("%s: context %s is not supported by this test runner", name, n.parts[0])
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func toNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

// looseEqual is GitHub's ==: strings compare case-insensitively; values of
// different types are compared as numbers.
func looseEqual(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	if a == nil && b == nil {
		return true
	}
	ab, aIsBool := a.(bool)
	bb, bIsBool := b.(bool)
	if aIsBool && bIsBool {
		return ab == bb
	}
	return toNumber(a) == toNumber(b)
}

func TestExpressions(t *testing.T) {
	c := &evalCtx{
		inputs: map[string]string{"query": "service:x", "api-url": "", "fail": "false"},
		steps: map[string]*stepState{
			"build": {outputs: map[string]string{"built": "true", "cache-hit": "TRUE"}, outcome: "success"},
		},
	}
	for _, tc := range []struct {
		expr string
		want string
	}{
		{"inputs.query", "service:x"},
		{"inputs.api-url", ""},
		{"steps.build.outputs.built == 'true'", "true"},
		{"steps.build.outputs.cache-hit == 'true'", "true"}, // case-insensitive
		{"steps.build.outputs.missing == 'true'", "false"},
		{"steps.build.outputs.missing", ""},
		{"steps.build.outputs.built != 'true'", "false"},
		{"!steps.build.outputs.missing", "true"},
		{"inputs.fail == 'true' || 'no'", "no"},
		{"inputs.query && 'yes'", "yes"},
		{"'it''s'", "it's"},
		{"(1 == 1) && true", "true"},
		{"steps.build.outcome", "success"},
	} {
		v, err := evalExpr(tc.expr, c)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := toString(v); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
	for _, bad := range []string{"github.token", "inputs.nope", "format('{0}', 1)", "steps.nope.outputs.x", "inputs.query ==", "a[0]"} {
		if _, err := evalExpr(bad, c); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	s, err := interpolate("a ${{ inputs.query }} b ${{ 'x}}y' }}", c)
	if err != nil || s != "a service:x b x}}y" {
		t.Errorf("interpolate = %q, %v", s, err)
	}
	if ok, _ := evalIf("steps.build.outputs.built == 'true'", c); !ok {
		t.Error("if: true condition was false")
	}
	c.failed = true
	if ok, _ := evalIf("steps.build.outputs.built == 'true'", c); ok {
		t.Error("if: without a status function ran after a failure")
	}
	if ok, _ := evalIf("${{ always() && steps.build.outputs.built == 'true' }}", c); !ok {
		t.Error("if: always() did not run after a failure")
	}
}
