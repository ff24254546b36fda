package gen

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
)

// ZipEntry is one member of a generated ZIP archive.
type ZipEntry struct {
	Name   string
	Data   []byte
	Method uint16 // zip.Store or zip.Deflate
	Dir    bool   // a directory entry (Name ends in "/"), no data
}

// Zip writes entries in order as Go's archive/zip does (with data
// descriptors, as Datadog's API answers are written).
func Zip(entries []ZipEntry) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		if e.Dir {
			if _, err := zw.Create(e.Name); err != nil {
				panic(err)
			}
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: e.Method})
		if err != nil {
			panic(err)
		}
		w.Write(e.Data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// zipRaw writes a good first entry, then one whose bytes, method and CRC
// are given as they are (no data descriptor).
func zipRaw(good []byte, name string, method uint16, raw []byte, crc uint32, usize uint64) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "good.pprof", Method: zip.Deflate})
	w.Write(good)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: method, CRC32: crc,
		CompressedSize64: uint64(len(raw)), UncompressedSize64: usize})
	if err != nil {
		panic(err)
	}
	w.Write(raw)
	zw.Close()
	return b.Bytes()
}

// ZipCorruptDeflate has a deflated entry "bad.pprof" whose data is not
// deflate (a reserved block type).
func ZipCorruptDeflate(good []byte) []byte {
	raw := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	return zipRaw(good, "bad.pprof", zip.Deflate, raw, 0x12345678, 100)
}

// ZipBadCRC has a stored entry "bad.pprof" whose recorded CRC-32 is wrong.
func ZipBadCRC(good []byte) []byte {
	return zipRaw(good, "bad.pprof", zip.Store, good, crc32.ChecksumIEEE(good)^1, uint64(len(good)))
}

// ZipUnsupportedMethod has an entry "bad.pprof" compressed with bzip2 (12).
func ZipUnsupportedMethod(good []byte) []byte {
	return zipRaw(good, "bad.pprof", 12, []byte("BZh91AY&SY..."), 0, 100)
}

// ZipEmpty is an archive without entries.
func ZipEmpty() []byte { return Zip(nil) }

// ZipTruncated is an archive of two profiles cut in the middle.
func ZipTruncated(good []byte) []byte {
	z := Zip([]ZipEntry{{Name: "a.pprof", Data: good, Method: zip.Deflate}, {Name: "b.pprof", Data: good, Method: zip.Store}})
	return z[:len(z)/2]
}
