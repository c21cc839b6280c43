package platform

// ParseMetaData is parseMetaData for the tests outside the package (which
// may import cm, for its atomic writer).
var ParseMetaData = parseMetaData
