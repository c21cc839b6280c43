package pkgbuild

import "testing"

// FuzzParseRecipe: a recipe is input from anyone; parsing never panics.
func FuzzParseRecipe(f *testing.F) {
	for _, s := range []string{
		"name = \"redis\"\n[[source]]\ndeb = \"redis-server\"\n",
		"name = \"hello\"\nversion = \"2.10-3\"\nbuilder = \"autotools\"\n[[source]]\ndebian-source = \"hello\"\nsha256 = \"00\"\n[[install]]\ndelete = \"../../etc\"\n",
		"name = \"x\"\nsteps = [[\"sh\", \"-c\", \"true\"]]\n[[source]]\ngomod = \"example.com/x@v1\"\ndest = \"/abs\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse("recipe.toml", data)
	})
}
