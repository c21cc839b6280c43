package config

import (
	"strconv"
	"strings"
	"text/template"
)

// TemplateFuncs are the functions a file template may call, beside
// text/template's builtins. They are pure, so rendering is deterministic.
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"join":  strings.Join,
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"trim":  strings.TrimSpace,
		"quote": strconv.Quote,
	}
}

// ParseTemplate parses a file's template; a missing key is an error when
// it is rendered, not an empty string.
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(TemplateFuncs()).Option("missingkey=error").Parse(text)
}

func checkTemplate(f *File) Errors {
	if _, err := ParseTemplate(f.Name, *f.Template); err != nil {
		return Errors{{f.At("template"), "file " + strconv.Quote(f.Name) + ": template: " + err.Error()}}
	}
	return nil
}
