package work

import (
	"bytes"
	"testing"
)

func TestParseRecord(t *testing.T) {
	var r Record
	if err := parseRecord([]byte("name=x;id=42;score=-7;ratio=0.5;tag=a;tag=b"), &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Name) != "x" || r.ID != 42 || r.Score != -7 || r.Ratio != 0.5 || r.NTags != 2 || string(r.Tags[1]) != "b" {
		t.Fatalf("parsed %+v", r)
	}
	for _, bad := range []string{"name", "=x", "id=x", "id=", "score=-", "ratio=z", "color=red"} {
		if err := parseRecord([]byte(bad), &r); err == nil {
			t.Errorf("parseRecord(%q) accepted", bad)
		}
	}
}

func TestEncodings(t *testing.T) {
	r := Record{Name: []byte("a\"b\\c\x01"), ID: 1, Score: -2, Ratio: 0.25, NTags: 1}
	r.Tags[0] = []byte("t")
	if got, want := string(jsonCodec{}.Encode(nil, &r)), `{"name":"a\"b\\c\u0001","id":1,"score":-2,"ratio":0.25,"tags":["t"]}`; got != want {
		t.Errorf("jsonCodec.Encode = %s, want %s", got, want)
	}
	if got, want := string(kvCodec{}.Encode(nil, &r)), "name=a\"b\\c\x01 id=1 score=-2 tag=t"; got != want {
		t.Errorf("kvCodec.Encode = %q, want %q", got, want)
	}
}

func TestSortOrder(t *testing.T) {
	s := NewState()
	s.Unit(7)
	for n := 1; n < BatchSize; n++ {
		a, b := s.idx[n-1], s.idx[n]
		if s.scores[a] < s.scores[b] || (s.scores[a] == s.scores[b] && s.recs[a].ID > s.recs[b].ID) {
			t.Fatalf("idx not sorted at %d: %d/%d then %d/%d", n, s.scores[a], s.recs[a].ID, s.scores[b], s.recs[b].ID)
		}
	}
	if c := bytes.Count(s.out, []byte("\n")); c != BatchSize {
		t.Fatalf("%d output lines, want %d", c, BatchSize)
	}
}

func TestDeterministic(t *testing.T) {
	if a, b := NewState().Unit(3), NewState().Unit(3); a != b {
		t.Fatalf("Unit(3) gave %x then %x", a, b)
	}
	if a, b := Batch(500, 1), Batch(500, 7); a != b {
		t.Fatalf("Batch depends on workers: %x vs %x", a, b)
	}
}

func BenchmarkUnit(b *testing.B) {
	s := NewState()
	for i := 0; i < b.N; i++ {
		s.Unit(uint64(i))
	}
}
