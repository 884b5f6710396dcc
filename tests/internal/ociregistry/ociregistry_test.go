package ociregistry

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestServe pulls what it served, by the local name the mirror gives the
// public one, and reads the file and configuration back.
func TestServe(t *testing.T) {
	layer, err := FilesLayer(map[string]File{
		"etc":       {Mode: 0o755},
		"etc/hello": {Mode: 0o644, Content: []byte("hi\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9", "docker.io/library/busybox:1"}
	var images []Image
	for _, r := range refs {
		images = append(images, Image{Ref: r, Layers: []v1.Layer{layer}, Config: v1.Config{Cmd: []string{"/pause"}, User: "65535"}})
	}
	s, err := Start(images)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mirrors := s.Mirrors()
	if len(mirrors) != 3 {
		t.Fatalf("mirrors: %v, want one per host", mirrors)
	}
	for _, r := range refs {
		ref, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		local := strings.TrimPrefix(mirrors[Host(ref)], "http://") + "/" + ref.Context().RepositoryStr() + ":" + ref.Identifier()
		lref, err := name.ParseReference(local, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(lref)
		if err != nil {
			t.Fatalf("%s (%s): %v", r, local, err)
		}
		d, _ := img.Digest()
		if want, _ := s.Digest(r); d != want {
			t.Errorf("%s: digest %s, served %s", r, d, want)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65535" || cf.OS != "linux" {
			t.Errorf("%s: config %+v", r, cf)
		}
	}
}
