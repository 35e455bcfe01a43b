package schemas

import "errors"

// MediaPromptTypes are the documented recording types.
var MediaPromptTypes = []string{"prompt", "whisper", "voicemail", "survey"}

// MaxMediaBytes is the documented upload limit (50 MB).
const MaxMediaBytes = 50 << 20

// ListMediaPromptsArgs filters GET /media-prompts.
type ListMediaPromptsArgs struct {
	Type string `json:"type,omitempty" jsonschema:"enum=prompt,enum=whisper,enum=voicemail,enum=survey"`
	Name string `json:"name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
}

// UploadMediaPromptArgs are the arguments of upload_media_prompt: the form
// fields of POST /media-prompts, and the audio from exactly one of a file in
// the server's media directory or base64 content with a filename.
type UploadMediaPromptArgs struct {
	Name      string `json:"name" jsonschema:"required,minLength=1,maxLength=255"`
	Type      string `json:"type" jsonschema:"required,enum=prompt,enum=whisper,enum=voicemail,enum=survey"`
	OrgUnitID int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Default the account's unit"`
	File      string `json:"file,omitempty" jsonschema:"minLength=1,maxLength=4096,description=Path of an audio file inside the server's media directory (absolute or relative to it)"`
	Content   string `json:"content,omitempty" jsonschema:"minLength=1,description=Base64 audio for small clips (arguments are capped at 4 MB); needs filename"`
	Filename  string `json:"filename,omitempty" jsonschema:"minLength=1,maxLength=255,pattern=^[^/\\\\]+\\.(wav|mp3|mp4|ogg|webm|m4a|aac|flac)$,description=Name with the format's extension; with content only"`
}

// Validate requires exactly one source of audio.
func (a UploadMediaPromptArgs) Validate() error {
	switch {
	case a.File != "" && a.Content != "":
		return errors.New("give either file or content (with filename), not both")
	case a.File == "" && a.Content == "":
		return errors.New("give the audio: file (a path inside the server's media directory) or content (base64) with filename")
	case a.Content != "" && a.Filename == "":
		return errors.New("content needs filename (e.g. greeting.mp3): its extension names the format")
	case a.File != "" && a.Filename != "":
		return errors.New("filename goes with content only; a file's own name is used")
	}
	return nil
}
