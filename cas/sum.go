package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
)

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkSum refuses a name that is not a sha256: it becomes a file name
// and a URL path.
func checkSum(sum string) error {
	if !sumRE.MatchString(sum) {
		return fmt.Errorf("sha256 %q: want 64 lower-case hex digits", sum)
	}
	return nil
}

// MismatchError is a blob whose bytes do not hash to the name asked for.
type MismatchError struct{ Want, Got string }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("sha256 mismatch: got %s", e.Got)
}

// copyChecked copies r to w and fails with a MismatchError when the bytes
// do not hash to sum.
func copyChecked(r io.Reader, w io.Writer, sum string) error {
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return &MismatchError{Want: sum, Got: got}
	}
	return nil
}
