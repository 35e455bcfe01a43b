package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
)

func TestMediaDir(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load(context.Background(), envconfig.MapLookuper(map[string]string{"CONVIRZA_MCP_MEDIA_DIR": dir}), nil)
	if err != nil || c.MediaDir != dir {
		t.Fatalf("existing directory: %+v, %v", c, err)
	}
	c, err = config.Load(context.Background(), envconfig.MapLookuper(map[string]string{}), nil)
	if err != nil || c.MediaDir != "" {
		t.Fatalf("unset: %q, %v", c.MediaDir, err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "file.wav")} {
		if strings.HasSuffix(bad, ".wav") {
			if err := os.WriteFile(bad, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := config.Load(context.Background(), envconfig.MapLookuper(map[string]string{"CONVIRZA_MCP_MEDIA_DIR": bad}), nil)
		if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_MEDIA_DIR must be an existing directory") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
