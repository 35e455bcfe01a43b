package talkdesksim

import (
	"net/http"
	"strings"
)

func (s *Sim) listLists(w http.ResponseWriter, r *http.Request) *apiError {
	page, perPage, err := paging(r)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(s.st.order))
	for _, id := range s.st.order {
		items = append(items, listJSON(requestBase(r), s.st.lists[id]))
	}
	halPage(w, r, Prefix+"/record-lists", "record_lists", items, page, perPage)
	return nil
}

func (s *Sim) getList(w http.ResponseWriter, r *http.Request) *apiError {
	l, err := s.st.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listJSON(requestBase(r), l))
	return nil
}

func (s *Sim) createList(w http.ResponseWriter, r *http.Request) *apiError {
	v, err := readBody(r)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid(field{Name: "body", Description: "must be a JSON object"})
	}
	var fields []field
	name, hasName := m["name"].(string)
	if !hasName || strings.TrimSpace(name) == "" {
		fields = append(fields, field{Name: "name", Description: "is required and must be a non-empty string"})
	}
	status := "ACCEPTED"
	for k, val := range m {
		switch k {
		case "name":
		case "csv_metadata":
			if _, isObj := val.(map[string]any); !isObj {
				fields = append(fields, field{Name: "csv_metadata", Description: "must be an object"})
			}
			status = "UPLOADED"
		default:
			fields = append(fields, field{Name: k, Description: "is not a known field"})
		}
	}
	if fields != nil {
		return invalid(sortFields(fields)...)
	}
	now := s.opts.Now()
	l := &recordList{id: s.st.newID("1ec0a7d4"), name: name, uniqueType: "NOTHING", status: status, created: now, modified: now}
	s.st.lists[l.id] = l
	s.st.order = append(s.st.order, l.id)
	writeJSON(w, http.StatusCreated, listJSON(requestBase(r), l))
	return nil
}

func (s *Sim) deleteList(w http.ResponseWriter, r *http.Request) *apiError {
	l, err := s.st.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	delete(s.st.lists, l.id)
	for i, id := range s.st.order {
		if id == l.id {
			s.st.order = append(s.st.order[:i], s.st.order[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Sim) listRecords(w http.ResponseWriter, r *http.Request) *apiError {
	l, err := s.st.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	page, perPage, err := paging(r)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(l.records))
	for _, rec := range l.records {
		items = append(items, recordJSON(requestBase(r), l.id, rec))
	}
	halPage(w, r, Prefix+"/record-lists/"+l.id+"/records", "records", items, page, perPage)
	return nil
}
