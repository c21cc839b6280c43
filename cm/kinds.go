package cm

// planKinds is how the config becomes resources: a row per config kind
// (its constructor), and the [system] keys that are resources. A new kind
// is its row here beside its row in config's table.
var planKinds = []planKind{
	each(newService), each(newFile), each(newNet), each(newDir), each(newLink),
	each(newUser), each(newGroup), each(newSysctl), each(newModule), each(newMount),
	each(newPackage), each(newExec), each(newTmpfile),
	planHostname,
}
