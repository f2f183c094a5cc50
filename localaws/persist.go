package localaws

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files of a data directory: per region, the memory world's snapshot and
// the endpoint's metadata about its queues.
const (
	worldSuffix = ".world.json"
	metaSuffix  = ".meta.json"
)

// Open returns a Server like New, restoring the state a Server with the
// same Options.DataDir saved when it was closed; a directory without saved
// state (or an empty DataDir) starts empty.
func Open(opts Options) (*Server, error) {
	s := newServer(opts)
	if opts.DataDir == "" {
		return s, nil
	}
	if err := s.load(); err != nil {
		s.cancel()
		return nil, err
	}
	return s, nil
}

// metaState is a queue's queueMeta on disk.
type metaState struct {
	Created, Modified time.Time
	Tags, Attrs       map[string]string
}

// load restores every region saved in the data directory.
func (s *Server) load() error {
	entries, err := os.ReadDir(s.dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("localaws: open: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), worldSuffix)
		if !ok || !looksLikeRegion(name) {
			continue
		}
		r := s.region(name)
		f, err := os.Open(filepath.Join(s.dataDir, e.Name()))
		if err != nil {
			return fmt.Errorf("localaws: open: %w", err)
		}
		err = r.world.Restore(f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("localaws: open: region %s: %w", name, err)
		}
		b, err := os.ReadFile(filepath.Join(s.dataDir, name+metaSuffix))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("localaws: open: %w", err)
		}
		var metas map[string]metaState
		if err := json.Unmarshal(b, &metas); err != nil {
			return fmt.Errorf("localaws: open: region %s: %w", name, err)
		}
		r.mu.Lock()
		for q, m := range metas {
			r.meta[q] = &queueMeta{created: m.Created, modified: m.Modified, tags: orEmpty(m.Tags), attrs: orEmpty(m.Attrs)}
		}
		r.mu.Unlock()
	}
	return nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// save writes every region to the data directory, each file written whole
// under a temporary name first, so a failed save leaves the last one.
func (s *Server) save() error {
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return fmt.Errorf("localaws: save: %w", err)
	}
	s.mu.Lock()
	regions := make([]*region, 0, len(s.regions))
	for _, r := range s.regions {
		regions = append(regions, r)
	}
	s.mu.Unlock()
	for _, r := range regions {
		err := writeFile(filepath.Join(s.dataDir, r.name+worldSuffix), func(f *os.File) error { return r.world.Snapshot(f) })
		if err != nil {
			return err
		}
		r.mu.Lock()
		metas := make(map[string]metaState, len(r.meta))
		for q, m := range r.meta {
			if _, err := r.world.Queue(q); err == nil {
				metas[q] = metaState{Created: m.created, Modified: m.modified, Tags: m.tags, Attrs: m.attrs}
			}
		}
		b, err := json.Marshal(metas)
		r.mu.Unlock()
		if err != nil {
			return fmt.Errorf("localaws: save: %w", err)
		}
		err = writeFile(filepath.Join(s.dataDir, r.name+metaSuffix), func(f *os.File) error {
			_, err := f.Write(b)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("localaws: save: %w", err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("localaws: save: %w", err)
	}
	return nil
}
