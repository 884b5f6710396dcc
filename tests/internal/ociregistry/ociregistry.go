// Package ociregistry builds container images from local directories and
// serves them from registries on 127.0.0.1, one per upstream host, so that
// a client whose registry mirrors point there pulls public image names
// (registry.k8s.io/pause:3.9, docker.io/library/busybox) without the
// network. It is for the test suites only.
package ociregistry

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Image is one image to serve: its public name, its layers (bottom first)
// and the runtime part of its configuration.
type Image struct {
	Ref    string     // e.g. "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	Layers []v1.Layer // from DirLayer or FilesLayer
	Config v1.Config  // Entrypoint, Cmd, Env, User, WorkingDir, ExposedPorts, Labels
}

// epoch is every file's time in a layer: the same tree gives the same
// digest on every run.
var epoch = time.Unix(0, 0)

// DirLayer makes a layer of the tree under dir, with its owners, modes,
// symbolic links and hard links (a file's later names are links to its
// first, as busybox's applets are in the upstream images).
func DirLayer(dir string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		hdr.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
			if fi.Mode().IsRegular() && st.Nlink > 1 {
				id := inode{uint64(st.Dev), st.Ino}
				if first, ok := seen[id]; ok {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
					return tw.WriteHeader(hdr)
				}
				seen[id] = hdr.Name
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("layer of %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return bytesLayer(buf.Bytes())
}

// File is one entry of FilesLayer.
type File struct {
	Mode     int64 // permission bits; a directory when Content is nil and Link is ""
	UID, GID int
	Content  []byte
	Link     string // a symbolic link to Link
}

// FilesLayer makes a layer of the given entries, by path relative to the
// root; parents are not added, so a layer on top of another only changes
// what it names.
func FilesLayer(files map[string]File) (v1.Layer, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := files[p]
		hdr := &tar.Header{Name: p, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: epoch}
		switch {
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Link, 0o777
		case f.Content == nil:
			hdr.Typeflag, hdr.Name = tar.TypeDir, strings.TrimSuffix(p, "/")+"/"
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Content))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return bytesLayer(buf.Bytes())
}

func bytesLayer(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// Build makes the image: a linux image of this machine's architecture
// with the given layers and configuration.
func (im Image) Build() (v1.Image, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Config:       im.Config,
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, im.Layers...)
}

// Set is the registries serving a set of images, one per upstream host.
type Set struct {
	servers map[string]*server // by upstream host ("docker.io", "registry.k8s.io")
	digests map[string]v1.Hash // by image Ref
}

type server struct {
	ln  net.Listener
	srv *http.Server
}

// Start serves the images. Close stops the registries.
func Start(images []Image) (*Set, error) {
	s := &Set{servers: map[string]*server{}, digests: map[string]v1.Hash{}}
	for _, im := range images {
		if err := s.push(im); err != nil {
			s.Close()
			return nil, fmt.Errorf("image %s: %w", im.Ref, err)
		}
	}
	return s, nil
}

func (s *Set) push(im Image) error {
	ref, err := name.ParseReference(im.Ref)
	if err != nil {
		return err
	}
	tag, ok := ref.(name.Tag)
	if !ok {
		return errors.New("a digest reference cannot be built: name it by a tag")
	}
	host := Host(ref)
	srv, err := s.server(host)
	if err != nil {
		return err
	}
	local, err := name.NewTag(srv.ln.Addr().String()+"/"+ref.Context().RepositoryStr()+":"+tag.TagStr(), name.Insecure)
	if err != nil {
		return err
	}
	img, err := im.Build()
	if err != nil {
		return err
	}
	if err := remote.Write(local, img); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	s.digests[im.Ref] = d
	return nil
}

// Host is the registry host of ref as containerd names it in its
// hosts directory: docker.io, not index.docker.io.
func Host(ref name.Reference) string {
	h := ref.Context().RegistryStr()
	if h == name.DefaultRegistry {
		return "docker.io"
	}
	return h
}

func (s *Set) server(host string) (*server, error) {
	if srv, ok := s.servers[host]; ok {
		return srv, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &server{ln: ln, srv: &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}}
	go func() { _ = srv.srv.Serve(ln) }()
	s.servers[host] = srv
	return srv, nil
}

// Digest is the manifest digest an image was served with.
func (s *Set) Digest(ref string) (v1.Hash, bool) {
	d, ok := s.digests[ref]
	return d, ok
}

// Mirrors maps each upstream host to the URL of the registry serving its
// images.
func (s *Set) Mirrors() map[string]string {
	m := make(map[string]string, len(s.servers))
	for host, srv := range s.servers {
		m[host] = "http://" + srv.ln.Addr().String()
	}
	return m
}

// WriteHostsDir writes containerd's registry hosts directory (the CRI
// plugin's registry.config_path): for each upstream host, a hosts.toml
// whose only mirror is its local registry, over plain HTTP.
func (s *Set) WriteHostsDir(dir string) error {
	for host, url := range s.Mirrors() {
		upstream := "https://" + host
		if host == "docker.io" {
			upstream = "https://registry-1.docker.io"
		}
		toml := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", upstream, url)
		d := filepath.Join(dir, host)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(toml), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the registries.
func (s *Set) Close() {
	for _, srv := range s.servers {
		_ = srv.srv.Close()
	}
}
