package disk

// OpenBlock is openBlock, for the external tests.
var OpenBlock = openBlock
