package server

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets are the demo page's files, served from the binary: no CDN.
//
//go:embed assets
var assets embed.FS

func (s *Server) demoIndex(w http.ResponseWriter, r *http.Request) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:")
	_, _ = w.Write(page)
}

func (s *Server) demoAssets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	return http.StripPrefix("/assets/", http.FileServer(http.FS(sub)))
}
