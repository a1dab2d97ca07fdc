# NAME
#	ArcTest - what mkchain.pl and verify.pl share: keys, a DNS answered
#	from a keys file, ed25519-sha256 for Mail::DKIM, an ARC sealer
# DESCRIPTION
#	Mail::DKIM 1.20230212 (Debian 12) signs and verifies ARC with
#	rsa-sha256 only, and its ARC::Signer always writes c=relaxed/relaxed.
#	This module adds, in-process and without touching the installed
#	files:
#	- Mail::DKIM::Algorithm::ed25519_sha256 (RFC 8463: Ed25519 over the
#	  SHA-256 digest of the canonicalized header data; CryptX's
#	  Crypt::PK::Ed25519), known to Mail::DKIM::Signature (and so to its
#	  ARC subclasses) as a= ed25519-sha256; public keys with k=ed25519
#	  (p= the raw 32-byte key in base64);
#	- ArcTest::Sealer, a Mail::DKIM::ARC::Signer that takes
#	  Algorithm => 'ed25519-sha256' and AMSMethod => 'relaxed/simple';
#	- ArcTest::FakeResolver, set as Mail::DKIM::DNS's resolver: TXT
#	  answers from a keys file (lines "selector._domainkey.domain TEXT",
#	  the driver's format), NXDOMAIN for any other name. No network.
package ArcTest;
use strict;
use warnings;

use Crypt::PK::Ed25519;
use Digest::SHA;
use MIME::Base64;
use Net::DNS;
use Mail::DKIM 1.20230212;
use Mail::DKIM::DNS;
use Mail::DKIM::PublicKey;
use Mail::DKIM::PrivateKey;
use Mail::DKIM::Signature;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::ARC::MessageSignature;

our $AMS_METHOD;    # set (local) while an ArcTest::Sealer signs: the AMS c=

# ---- ed25519-sha256 --------------------------------------------------------
package Mail::DKIM::Algorithm::ed25519_sha256;
use base 'Mail::DKIM::Algorithm::Base';
use MIME::Base64;

sub init_digests {
	my $self = shift;
	$self->{header_digest} = Digest::SHA->new(256);
	$self->{body_digest}   = Digest::SHA->new(256);
}

sub sign {
	my ( $self, $key ) = @_;
	my $digest = $self->{header_digest}->digest;
	return encode_base64( $key->sign_message($digest), '' );
}

sub verify {
	my $self   = shift;
	my $pub    = $self->signature->get_public_key;
	my $digest = $self->{header_digest}->digest;
	my $sig    = decode_base64( $self->signature->data );
	my $ok;
	eval { $ok = $pub->cork->verify_message( $sig, $digest ); 1 } or return;
	return unless $ok;
	return $self->check_body_hash;
}

sub wants_pre_signature_headers { return 1 }

# An Ed25519 public key as Mail::DKIM's verifiers use a key's "cork".
package ArcTest::EdPub;

sub new { my ( $class, $pk ) = @_; return bless { pk => $pk }, $class }
sub size { return 32 }    # bytes, as Crypt::OpenSSL::RSA's size
sub verify_message { my $self = shift; return $self->{pk}->verify_message(@_) }

package ArcTest;
{
	no warnings 'redefine';
	my $orig_class = \&Mail::DKIM::Signature::get_algorithm_class;
	*Mail::DKIM::Signature::get_algorithm_class = sub {
		my ( $self, $alg ) = @_;
		return 'Mail::DKIM::Algorithm::ed25519_sha256' if defined $alg && $alg eq 'ed25519-sha256';
		return $orig_class->(@_);
	};
	my $orig_hash = \&Mail::DKIM::Signature::hash_algorithm;
	*Mail::DKIM::Signature::hash_algorithm = sub {
		my $self = shift;
		return 'sha256' if ( $self->algorithm // '' ) eq 'ed25519-sha256';
		return $orig_hash->( $self, @_ );
	};
	my $orig_convert = \&Mail::DKIM::PublicKey::convert;
	*Mail::DKIM::PublicKey::convert = sub {
		my $self = shift;
		return $orig_convert->( $self, @_ ) unless ( $self->get_tag('k') // 'rsa' ) eq 'ed25519';
		my $raw = decode_base64( $self->data // '' );
		die "ed25519 key of " . length($raw) . " bytes\n" unless length($raw) == 32;
		$self->cork( ArcTest::EdPub->new( Crypt::PK::Ed25519->new->import_key_raw( $raw, 'public' ) ) );
		return 1;
	};
	my $orig_check = \&Mail::DKIM::PublicKey::check;
	*Mail::DKIM::PublicKey::check = sub {
		my $self = shift;
		return $orig_check->( $self, @_ ) unless ( $self->get_tag('k') // 'rsa' ) eq 'ed25519';
		# the original's checks, with k=ed25519 taken
		my $v = $self->get_tag('v');
		die "unsupported version\n" if defined $v && $v ne 'DKIM1';
		my $p = $self->data;
		die "missing p= tag\n" unless defined $p;
		die "revoked\n" if $p eq '';
		die "invalid data\n" unless $p =~ /^[A-Za-z0-9\+\/\=]+$/;
		$self->cork;
		return 1;
	};
	my $orig_ams_new = \&Mail::DKIM::ARC::MessageSignature::new;
	*Mail::DKIM::ARC::MessageSignature::new = sub {
		my ( $class, %prms ) = @_;
		$prms{Method} = $AMS_METHOD if defined $AMS_METHOD && $class eq 'Mail::DKIM::ARC::MessageSignature';
		return $orig_ams_new->( $class, %prms );
	};
}

# ---- the sealer ------------------------------------------------------------
package ArcTest::Sealer;
use base 'Mail::DKIM::ARC::Signer';

# init - Mail::DKIM::ARC::Signer's, which refuses anything but rsa-sha256
sub init {
	my $self = shift;
	my $alg  = $self->{Algorithm} || 'rsa-sha256';
	$self->{Algorithm} = 'rsa-sha256';
	$self->SUPER::init(@_);
	$self->{Algorithm} = $alg;
}

sub finish_header {
	my $self = shift;
	local $ArcTest::AMS_METHOD = $self->{AMSMethod} || 'relaxed/relaxed';
	return $self->SUPER::finish_header(@_);
}

# ---- DNS from a keys file --------------------------------------------------
package ArcTest::FakeResolver;

sub new {
	my ( $class, $file ) = @_;
	my %txt;
	open( my $fh, '<', $file ) or die "$file: $!\n";
	while ( my $line = <$fh> ) {
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		my ( $name, $text ) = split /\s+/, $line, 2;
		push @{ $txt{ lc $name } }, $text // '';
	}
	close $fh;
	return bless { txt => \%txt, err => 'NOERROR', queries => 0 }, $class;
}

sub send {
	my ( $self, $name, $type ) = @_;
	$self->{queries}++;
	( my $key = lc $name ) =~ s/\.$//;
	my $packet = Net::DNS::Packet->new( $name, $type, 'IN' );
	$packet->header->qr(1);
	my $texts = $self->{txt}{$key};
	if ( !$texts ) {
		$packet->header->rcode('NXDOMAIN');
		return $packet;
	}
	if ( uc $type eq 'TXT' ) {
		for my $t (@$texts) {
			my @chunks = $t eq '' ? ('') : unpack( '(a255)*', $t );
			$packet->push( answer => Net::DNS::RR->new( owner => $name, type => 'TXT', ttl => 300, txtdata => [@chunks] ) );
		}
	}
	return $packet;
}

sub errorstring { return $_[0]{err} }

package ArcTest;

# use_keys - Mail::DKIM's DNS answers from this keys file from now on
sub use_keys {
	my ($file) = @_;
	Mail::DKIM::DNS::resolver( ArcTest::FakeResolver->new($file) );
}

# crlf - text with every line ending CRLF
sub crlf {
	my ($text) = @_;
	$text =~ s/\r?\n/\r\n/g;
	return $text;
}

# arc_verify - Mail::DKIM::ARC::Verifier over a message's text: (result, details, verifier)
sub arc_verify {
	my ($text) = @_;
	my $v = Mail::DKIM::ARC::Verifier->new;
	feed( $v, $text );
	return ( $v->result, $v->result_detail, $v );
}

# dkim_verify - Mail::DKIM::Verifier: the first signature's (result, d=, s=, b= prefix) or ('none')
sub dkim_verify {
	my ($text) = @_;
	my $v = Mail::DKIM::Verifier->new;
	feed( $v, $text );
	my ($sig) = $v->signatures;
	return ('none') unless $sig;
	return ( $sig->result, $sig->domain, $sig->selector, substr( $sig->data // '', 0, 8 ) );
}

# feed - a message's text into a Mail::DKIM object, line by line, CRLF
sub feed {
	my ( $obj, $text ) = @_;
	for my $line ( split /(?<=\n)/, crlf($text) ) {
		$obj->PRINT($line);
	}
	$obj->CLOSE;
}

1;
