package pattern

// Pattern is a compiled EventBridge event pattern or SNS filter policy. It is
// immutable and safe for concurrent use.
type Pattern struct {
	src     string
	dialect Dialect
	scope   Scope
	clauses []*clauseSpec
	prog    *program
}

// program is what matching runs on: the trie of the paths in use, and the
// clauses bound to the path ids.
type program struct {
	root    *trieNode
	paths   []string
	clauses []clauseInst
}

// programBuilder assigns path ids and binds clauses.
type programBuilder struct {
	prog *program
	ids  map[string]uint32
}

func newProgramBuilder() *programBuilder {
	return &programBuilder{prog: &program{root: newTrieNode()}, ids: map[string]uint32{}}
}

func (b *programBuilder) pathID(path string) uint32 {
	if id, ok := b.ids[path]; ok {
		return id
	}
	id := uint32(len(b.prog.paths))
	b.ids[path] = id
	b.prog.paths = append(b.prog.paths, path)
	b.prog.root.insert(path).leaf = int32(id)
	return id
}

func (b *programBuilder) add(pat uint32, cl *clauseSpec) {
	ci := clauseInst{pat: pat, conds: make([]condInst, len(cl.conds)), anchor: -1}
	for i, c := range cl.conds {
		ci.conds[i] = condInst{pid: b.pathID(c.path), spec: c}
	}
	b.prog.clauses = append(b.prog.clauses, ci)
}

func newPattern(src string, d Dialect, scope Scope, clauses []*clauseSpec) *Pattern {
	b := newProgramBuilder()
	for _, cl := range clauses {
		b.add(0, cl)
	}
	return &Pattern{src: src, dialect: d, scope: scope, clauses: clauses, prog: b.prog}
}

// String returns the source text the pattern was compiled from.
func (p *Pattern) String() string { return p.src }

// Dialect returns the language the pattern was compiled as.
func (p *Pattern) Dialect() Dialect { return p.dialect }

// Scope returns the SNS filter policy scope; it is [ScopeMessageBody] for
// EventBridge patterns.
func (p *Pattern) Scope() Scope { return p.scope }

// Match reports whether the pattern matches event, a JSON object. A
// malformed event, or one that is not an object, yields an error wrapping
// [ErrInvalidEvent]. An SNS filter policy matches no empty object, as it
// matches no empty set of message attributes.
func (p *Pattern) Match(event []byte) (bool, error) {
	s := getScratch()
	defer putScratch(s)
	if err := s.flatten(p.prog.root, len(p.prog.paths), event); err != nil {
		return false, err
	}
	if p.dialect == SNS && emptyObject(event) {
		return false, nil
	}
	return s.anyClause(p.prog), nil
}

// emptyObject reports whether event, a valid JSON object, has no members.
func emptyObject(event []byte) bool {
	i := 0
	for i < len(event) && isSpace[event[i]] {
		i++
	}
	i++ // '{'
	for i < len(event) && isSpace[event[i]] {
		i++
	}
	return i < len(event) && event[i] == '}'
}

func (s *scratch) anyClause(prog *program) bool {
	for i := range prog.clauses {
		if s.verify(&prog.clauses[i], -1) {
			return true
		}
	}
	return false
}
