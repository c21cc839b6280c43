package cas

// NotFound is ErrNotFound with why the place said so ("404", "apt: no
// longer there"), for the list of places tried.
func NotFound(why string) error { return notFound{why} }

type notFound struct{ why string }

func (e notFound) Error() string        { return e.why }
func (e notFound) Is(target error) bool { return target == ErrNotFound }
