package protocol

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"
)

func manifestKeys(t *testing.T) (ManifestSigner, ManifestSigner, ManifestPolicy) {
	mk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	ak, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	man := ManifestSigner{KeyID: []byte("manufacturer-1"), Key: mk}
	auth := ManifestSigner{KeyID: []byte("ptb-1"), Key: ak}
	p := ManifestPolicy{
		Model: "VM-E3", InstalledVersion: 4, SecurityFloor: 2,
		Manufacturers: map[string]*ecdsa.PublicKey{"manufacturer-1": &mk.PublicKey},
		Authorities:   map[string]*ecdsa.PublicKey{"ptb-1": &ak.PublicKey},
	}
	return man, auth, p
}

func TestManifestChecksNameTheFailure(t *testing.T) {
	man, auth, pol := manifestKeys(t)
	lr, other := []byte("legally relevant code v5"), []byte("communication stack v5")
	good := Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: NewComponent(lr), Other: NewComponent(other), Issued: 1}
	attacker, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	forgedAuth := ManifestSigner{KeyID: auth.KeyID, Key: attacker}
	cases := []struct {
		name    string
		m       Manifest
		signers []ManifestSigner
		want    error
	}{
		{"dual signed", good, []ManifestSigner{man, auth}, nil},
		{"manufacturer only", good, []ManifestSigner{man}, ErrManifestAuthority},
		{"authority only", good, []ManifestSigner{auth}, ErrManifestManufacturer},
		{"forged authority", good, []ManifestSigner{man, forgedAuth}, ErrManifestAuthority},
		{"authority as manufacturer", good, []ManifestSigner{{KeyID: man.KeyID, Key: auth.Key}, auth}, ErrManifestManufacturer},
		{"other part only, manufacturer", Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, Other: NewComponent(other)}, []ManifestSigner{man}, nil},
		{"wrong model", Manifest{Model: "VM-G1", Version: 5, SecurityVersion: 3, LR: good.LR}, []ManifestSigner{man, auth}, ErrManifestModel},
		{"not newer", Manifest{Model: "VM-E3", Version: 4, SecurityVersion: 3, LR: good.LR}, []ManifestSigner{man, auth}, ErrManifestVersion},
		{"downgrade", Manifest{Model: "VM-E3", Version: 6, SecurityVersion: 1, LR: good.LR}, []ManifestSigner{man, auth}, ErrManifestDowngrade},
	}
	for _, c := range cases {
		data, err := SignManifest(c.m, rand.Reader, c.signers...)
		if err != nil {
			t.Fatalf("%s: sign: %v", c.name, err)
		}
		_, err = VerifyManifest(data, pol)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if c.want != nil && !errors.Is(err, ErrManifest) {
			t.Errorf("%s: %v is not a manifest rejection", c.name, err)
		}
	}
	data, _ := SignManifest(good, rand.Reader, man, auth)
	for i := 0; i < len(data); i += 7 {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x20
		if _, err := VerifyManifest(bad, pol); err == nil {
			t.Fatalf("byte %d altered: accepted", i)
		}
	}
	m, _ := VerifyManifest(data, pol)
	if err := VerifyImage(m.LR, lr); err != nil {
		t.Fatal(err)
	}
	if err := VerifyImage(m.LR, append([]byte("x"), lr[1:]...)); !errors.Is(err, ErrImageDigest) {
		t.Fatalf("altered image: %v", err)
	}
	if err := VerifyImage(m.LR, lr[1:]); !errors.Is(err, ErrImageSize) {
		t.Fatalf("short image: %v", err)
	}
}
