package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// PKI on disk: one directory holds, per CA, NAME.crt (PEM certificate),
// NAME.key (PEM PKCS#8 private key, mode 0600) and NAME.crl (its current
// CRL, from `pki init` on). An end-entity certificate file is a chain: the
// certificate followed by its sub-CA (WriteChain), as TLS peers send it and
// as curl and openssl read it; the key is written the same way as a CA's.

// SubCAs are the sub-CAs of `verimeter pki init`, one per role family, with
// the roles each may certify.
var SubCAs = map[string][]Role{
	"manufacturer":        {RoleMeterChannel, RoleMeterSigning, RoleManufacturer},
	"gateway-operator":    {RoleGateway, RoleTrustListSign},
	"head-end-operator":   {RoleHeadEnd, RoleTrustListSign, RoleEncryption},
	"market-participant":  {RoleSupplier, RoleGridOperator, RoleEncryption},
	"metrology-authority": {RoleAuthority},
}

// WriteCertificate writes a certificate as PEM.
func WriteCertificate(path string, c *x509.Certificate) error {
	return writePEM(path, "CERTIFICATE", c.Raw, 0o644)
}

// WriteChain writes a certificate followed by the CA certificates above it
// (without the root, which a relying party has as its trust anchor).
func WriteChain(path string, chain ...*x509.Certificate) error {
	var b []byte
	for _, c := range chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeFileAtomic(path, b, 0o644)
}

// WriteKey writes a private key as PEM PKCS#8, readable by its owner only.
func WriteKey(path string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// WriteCRL writes a CRL as PEM.
func WriteCRL(path string, crl *x509.RevocationList) error {
	return writePEM(path, "X509 CRL", crl.Raw, 0o644)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%w: %s is not a PEM %s", ErrMalformed, path, typ)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %s has data after the PEM block", ErrTrailing, path)
	}
	return blk.Bytes, nil
}

// ReadCertificate reads a PEM certificate: the first of a chain file, whose
// other certificates must each have issued the one before (ReadChain).
func ReadCertificate(path string) (*x509.Certificate, error) {
	chain, err := ReadChain(path)
	if err != nil {
		return nil, err
	}
	return chain[0], nil
}

// ReadChain reads every certificate of a PEM file, leaf first. Anything but
// CERTIFICATE blocks, and a certificate not issued by the one after it, is
// refused: a chain file in the wrong order would make TLS peers send a chain
// nobody can build.
func ReadChain(path string) ([]*x509.Certificate, error) {
	chain, err := ReadCertificates(path)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, fmt.Errorf("%w: %s: certificate %d is not issued by certificate %d: %w", ErrLintChainOrder, path, i, i+1, err)
		}
	}
	return chain, nil
}

// ReadCertificates reads every certificate of a PEM file in file order (a
// bundle of roots or sub-CAs, or a chain), at least one.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: %s holds a PEM %s among certificates", ErrMalformed, path, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrCertificate, path, err)
		}
		out = append(out, c)
	}
	if len(bytes.TrimSpace(b)) != 0 {
		return nil, fmt.Errorf("%w: %s has data after the PEM blocks", ErrTrailing, path)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s is not a PEM CERTIFICATE", ErrMalformed, path)
	}
	return out, nil
}

// ReadKey reads a PEM PKCS#8 ECDSA private key.
func ReadKey(path string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an ECDSA key", ErrMalformed, path)
	}
	return ek, nil
}

// ReadCRL reads a PEM CRL.
func ReadCRL(path string) (*x509.RevocationList, error) {
	der, err := readPEM(path, "X509 CRL")
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCertificate, path, err)
	}
	return crl, nil
}

// LoadCA reads the certificate and key of CA name from dir.
func LoadCA(dir, name string, rand io.Reader) (*CA, error) {
	c, err := ReadCertificate(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	k, err := ReadKey(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	if !k.PublicKey.Equal(c.PublicKey) {
		return nil, fmt.Errorf("%w: %s.key does not match %s.crt", ErrCertificate, name, name)
	}
	return &CA{Cert: c, Key: k, Name: name, rand: rand}, nil
}

// SaveCA writes a CA's certificate and key into dir.
func SaveCA(dir, name string, ca *CA) error {
	if err := WriteKey(filepath.Join(dir, name+".key"), ca.Key); err != nil {
		return err
	}
	return WriteCertificate(filepath.Join(dir, name+".crt"), ca.Cert)
}
